"""Keras ``.h5`` → ONNX conversion without TensorFlow, in four steps, one module each.

* :mod:`.h5file` opens the HDF5 file, refuses what is not a whole Keras model, and reads the
  model config and each layer's weights;
* :mod:`.config` turns the config JSON (Keras 2.x or Keras 3, Sequential or Functional) into
  a list of layer calls in dependency order;
* :mod:`.graph` builds the ONNX graph and keeps track of each tensor's shape and memory layout;
* :mod:`.layers` (with :mod:`.activations`) converts one Keras layer at a time.

:func:`moodtape.vision.keras_h5.convert_h5` ties them together.
"""
