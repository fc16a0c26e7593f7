"""Root pytest configuration: skip collecting the app package where streamlit is not installed."""

import importlib.util

collect_ignore_glob = [] if importlib.util.find_spec("streamlit") else ["explain/app/*"]
