"""The Compare page: its body is explain/app/pages/compare.py (``explain app`` serves the same).

Streamlit reads this folder only until app.py's ``st.navigation`` has run once (a new server
whose first request is this page's URL; every AppTest run); this file then hands over to that
same navigation, which runs the page, so no page is listed twice.
"""

from explain.app.navigation import run

run()
