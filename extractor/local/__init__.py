"""The bundled model, served on this machine when no endpoint is configured: the server
(llama.cpp's ``llama-server`` or llama-cpp-python's), the packaged models, the child process."""
