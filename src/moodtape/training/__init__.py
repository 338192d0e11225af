"""Training our own emotion model on FER2013.

``datasets``, ``calibration``, ``views`` and ``reference_table`` (the bundled model's neutral reference)
need only NumPy, OpenCV and ONNX Runtime (``moodtape evaluate`` uses them);
``network``, ``augment``, ``trainer`` and ``export`` need PyTorch, from the ``train`` extra.
"""
