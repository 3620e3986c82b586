"""``python -m gzmorph.synthetic``: writes the embedded sample (see gzmorph.synthetic.sample)."""
from gzmorph.synthetic.sample import main

main()
