"""Building blocks of the demo/benchmark data generator (`gongzhi.demo.generate`)."""
