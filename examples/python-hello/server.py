# The App Runner developer guide's Python example: answers "Hello, NAME!" on $PORT.
import os
from wsgiref.simple_server import make_server

from pyramid.config import Configurator
from pyramid.response import Response


def hello_world(request):
    name = os.environ.get("NAME")
    if not name:
        name = "world"
    return Response("Hello, " + name + "!\n")


if __name__ == "__main__":
    port = int(os.environ.get("PORT"))
    with Configurator() as config:
        config.add_route("hello", "/")
        config.add_view(hello_world, route_name="hello")
        app = config.make_wsgi_app()
    server = make_server("0.0.0.0", port, app)
    print(f"listening on port {port}", flush=True)
    server.serve_forever()
