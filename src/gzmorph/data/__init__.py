"""From files to model-ready arrays: label cleaning, image decoding, packing, splits, caption files."""
