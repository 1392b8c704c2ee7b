"""How people use it: the ``Assistant`` front door, chat sessions, the CLI and the Gradio UI."""
