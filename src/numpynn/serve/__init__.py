"""``numpynn serve``: a page to draw a digit and watch the network read it, over a prediction
API with dynamic batching (needs the serve extra: pip install 'numpynn[serve]').

    from numpynn.serve import create_app, load_served
    app = create_app(load_served("runs/mnist/model.npz"))   # an ASGI app for uvicorn
"""

from .app import create_app
from .served import ServedModel, load_served

__all__ = ["ServedModel", "create_app", "load_served"]
