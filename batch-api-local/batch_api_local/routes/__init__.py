"""The HTTP routes, one module per resource: files, batches, the direct endpoints and models,
and the control surface. :func:`..app.create_app` includes them."""
