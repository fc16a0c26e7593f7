"""Report: run the audit, read its findings, and download one offline HTML file and its JSON."""

from __future__ import annotations

import streamlit as st

from explain.app import cache, choices, compute, page
from explain.app.persist import kept


def render() -> None:
    """The Report page."""
    page.setup("Report")
    st.title("Report")
    model, data = page.require_loaded()

    sections = kept(st.multiselect, "Sections", key="report.sections", default=choices.default_sections(),
                    options=choices.audit_sections())
    rows = kept(st.slider, "Examples explained per section", key="report.rows", default=min(50, len(data)),
                min_value=1, max_value=min(len(data), 500))
    build = cache.run_button("Build report")
    audit = compute.audit_report(list(sections), int(rows), compute=build)
    if audit is None:
        st.info("Choose the sections, then press **Build report**.")
        st.stop()

    st.subheader("Findings")
    for finding in audit.findings:
        st.text(f"• {finding}")  # plain text: findings quote column names and tokens
    for section in audit.sections:
        if section.status != "ok":
            st.warning(f"{section.title} did not run: {section.reason}")
    html = audit.to_html()
    left, right = st.columns(2)
    left.download_button("Report (HTML, works offline)", data=html, file_name="report.html", mime="text/html",
                         on_click="ignore", type="primary")
    right.download_button("Report (JSON)", data=audit.to_json(), file_name="report.json",
                          mime="application/json", on_click="ignore")
    st.caption(f"{len(html) / 1e6:.1f} MB, built in {audit.provenance['seconds']} s. Preview:")
    st.components.v1.html(html, height=900, scrolling=True)


if __name__ == "__main__":  # run by Streamlit as a page of the navigation
    render()
