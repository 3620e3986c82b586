"""A local S3 server for the DVC remote (SeaweedFS, on 127.0.0.1 only): gzmorph.devtools.s3_server.

    python scripts/s3_server.py                  # serves ../gzmorph-s3 at http://127.0.0.1:8333 until Ctrl-C
    python scripts/s3_server.py --dir D --port P --bucket B
"""
from gzmorph.devtools.s3_server import main

if __name__ == "__main__":
    main()
