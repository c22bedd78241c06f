pytest_plugins = ["gongzhi.testing.fixtures"]
