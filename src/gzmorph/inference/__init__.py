"""Using trained models: predict (files or arrays to a table), the table, metrics, evaluation, Grad-CAM, figures."""
