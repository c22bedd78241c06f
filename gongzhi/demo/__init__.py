"""Demo and benchmark data: not domain code.

`generate` fills an empty database with a deterministic org tree, households, residents and staff (八里镇 for
the demo, a county, or 兰州 for benchmarks); `cases` writes the demo's sample cases through the real
services at past moments. This app sits above every domain app: it may import any of them, none imports it.
"""
