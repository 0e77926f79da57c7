"""``numpynn serve``: a page to draw a digit and watch the network read it, over a prediction
API with dynamic batching; for a language model, a page to write with and a generation API
(needs the serve extra: pip install 'numpynn[serve]').

    from numpynn.serve import create_app, load_served
    app = create_app(load_served("runs/mnist/model.npz"))   # an ASGI app for uvicorn

    from numpynn.serve import create_text_app
    writer = numpynn.trained.load_language_model("runs/shakespeare/model.npz")
    app = create_text_app(writer, "shakespeare")
"""

from .app import create_app
from .served import ServedModel, display_name, load_served
from .text_app import create_text_app

__all__ = ["ServedModel", "create_app", "create_text_app", "display_name", "load_served"]
