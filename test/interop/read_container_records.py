"""Reads Avro object container files with Apache Avro's own Python library,
with a given schema as the reader schema (schema resolution against each
file's writer schema), as a reader that holds only that version would.

Usage: python3 read_container_records.py READER_SCHEMA.avsc FOLDER
Prints every record of every *.avro file below FOLDER as one JSON line
(timestamp as milliseconds); fails on a record the reader schema cannot read.
"""
import json
import pathlib
import sys

import avro.datafile
import avro.io
import avro.schema


def millis(value):
    # Apache Avro turns timestamp-millis into an aware datetime
    return int(round(value.timestamp() * 1000)) if hasattr(value, 'timestamp') else value


def main() -> None:
    reader_schema = avro.schema.parse(open(sys.argv[1]).read())
    files = sorted(pathlib.Path(sys.argv[2]).rglob('*.avro'))
    if not files:
        raise SystemExit('no *.avro files below %s' % sys.argv[2])
    for path in files:
        with path.open('rb') as handle:
            reader = avro.datafile.DataFileReader(handle, avro.io.DatumReader(readers_schema=reader_schema))
            for record in reader:
                record['timestamp'] = millis(record['timestamp'])
                print(json.dumps(record, sort_keys=True, default=str))


main()
