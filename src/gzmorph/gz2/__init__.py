"""The Galaxy Zoo 2 domain, with no TensorFlow: the decision tree, the five-class rule, captions."""
