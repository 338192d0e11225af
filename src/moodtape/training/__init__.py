"""Training our own emotion model on FER2013.

``datasets``, ``calibration`` and ``views`` need only NumPy and OpenCV (``moodtape evaluate`` uses them);
``network``, ``augment``, ``trainer`` and ``export`` need PyTorch, from the ``train`` extra.
"""
