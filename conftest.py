pytest_plugins = ["gongzhi.testing.fixtures", "gongzhi.testing.fieldwork", "gongzhi.testing.points"]
