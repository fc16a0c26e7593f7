"""Models and datasets from files (layer 2: imports core, runtime).

- :mod:`~explain.loading.files`: ``load_model``, ``save_model``, ``load_dataset`` and the trust policy.
- :mod:`~explain.loading.model_formats`: one reader per model format.
- :mod:`~explain.loading.data_formats`: CSV, Parquet, NPZ, image zips, text CSVs.
- :mod:`~explain.loading.archives`: capped, safe zip reading.
- :mod:`~explain.loading.graph`: rebuilding an exported graph's nonlinearities as modules.
- :mod:`~explain.loading.architectures`: the bundled architectures for safetensors weights.
- :mod:`~explain.loading.catalog`: the bundled examples (``bundled/``, package data).
- :mod:`~explain.loading.csv_export`: CSV text that a spreadsheet cannot run.
"""
