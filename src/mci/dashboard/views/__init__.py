"""Dashboard pages; each module renders one page when Streamlit executes it."""
