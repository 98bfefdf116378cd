"""Counts the records of Avro object container files with Apache Avro's own Python library.

Usage: python3 count_container_records.py FOLDER  (every *.avro file below it)
Prints: "<files> objects <records> records <distinct ids> distinct ids".
"""
import pathlib
import sys

import avro.datafile
import avro.io

files = sorted(pathlib.Path(sys.argv[1]).rglob('*.avro'))
records = 0
ids = set()
for path in files:
    with path.open('rb') as handle:
        reader = avro.datafile.DataFileReader(handle, avro.io.DatumReader())
        declared = int(reader.get_meta('audit.count').decode())
        count = 0
        for record in reader:
            ids.add(record['id'])
            count += 1
        if count != declared:
            raise SystemExit('%s holds %d records, its metadata says %d' % (path, count, declared))
        records += count
print('%d objects %d records %d distinct ids' % (len(files), records, len(ids)))
