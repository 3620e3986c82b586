"""Using trained models: TTA, predict, captions, metrics, folder evaluation, Grad-CAM, figures."""
