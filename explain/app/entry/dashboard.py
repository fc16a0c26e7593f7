"""The script ``explain app`` gives to ``streamlit run``: the whole dashboard, from an installed wheel.

This folder holds nothing else, because Streamlit puts the script's folder at the front of
``sys.path`` (a module beside it would shadow any package of the same name).
"""

from explain.app.navigation import run

if __name__ == "__main__":  # Streamlit runs the script as __main__
    run()
