"""The language model, always in a process of its own: the interface (``backend``), the runtime
the app holds (``runtime``: states, budgets, restarts), the local llama.cpp child (``process``
starting ``worker``, the only module that imports ``llama_cpp``), an OpenAI-compatible server
(``openai``) and the model files on disk (``files``)."""
