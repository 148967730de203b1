"""Serves the test JupyterLab page with Debian's jupyter_server and jupyterlab_server.

Usage: python3 main.py --port=PORT --ServerApp.token=TOKEN --ServerApp.root_dir=DIR
The page build comes from $CELLFLOW_LAB_BUILD (webpack output of webpack.config.cjs, which also
holds a copy of this file and templates/, so a test may run the page with no checkout on any path).
"""
import os

from jupyterlab_server import LabServerApp

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ["CELLFLOW_LAB_BUILD"]
USER = os.environ.get("CELLFLOW_LAB_USER_DIR", os.path.join(BUILD, "user"))

# Only the config given on the command line, unless told to read the Jupyter config path as
# `jupyter lab` does (CELLFLOW_LAB_READ_CONFIG=1: an installed package's jupyter-config enables
# its server extension there).
if os.environ.get("CELLFLOW_LAB_READ_CONFIG") != "1":
    os.environ["JUPYTER_NO_CONFIG"] = "1"


class CellflowTestLab(LabServerApp):
    name = __name__
    load_other_extensions = True
    app_name = "JupyterLab (Cellflow tests)"
    app_version = "4.5.11"
    extension_url = "/lab"
    default_url = "/lab"
    app_url = "/lab"
    app_settings_dir = os.path.join(USER, "app-settings")
    schemas_dir = os.path.join(BUILD, "schemas")
    static_dir = BUILD
    templates_dir = os.path.join(HERE, "templates")
    themes_dir = os.path.join(BUILD, "themes")
    user_settings_dir = os.path.join(USER, "settings")
    workspaces_dir = os.path.join(USER, "workspaces")
    # More server extensions to load with the page ($CELLFLOW_LAB_SERVER_EXTENSIONS, comma-separated);
    # none named: those the Jupyter config path enables.
    _extensions = {
        name: True for name in os.environ.get("CELLFLOW_LAB_SERVER_EXTENSIONS", "").split(",") if name
    }
    serverapp_config = {"jpserver_extensions": _extensions} if _extensions else {}


def _jupyter_server_extension_points():
    return [{"module": __name__, "app": CellflowTestLab}]


if __name__ == "__main__":
    CellflowTestLab.launch_instance()
