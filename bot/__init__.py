"""The Discord application: the only package that imports discord. Arrows point one way: bot -> knowledge."""
