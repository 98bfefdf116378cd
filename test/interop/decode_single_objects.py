"""Decodes Avro single-object encoded values with Apache Avro's own Python library.

Reads kcat output made with -f '%R%s' (4-byte big-endian length, then the value)
from stdin, checks the C3 01 marker and the CRC-64-AVRO fingerprint (computed
here, independently, from the schema's canonical form), and prints each event as
one JSON line. Usage: kcat ... -f '%R%s' | python3 decode_single_objects.py SCHEMA.avsc
"""
import io
import json
import struct
import sys

import avro.io
import avro.schema

EMPTY = 0xC15D213AA4D7A795


def crc64_avro(data: bytes) -> int:
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (EMPTY & -(fp & 1))
        table.append(fp & 0xFFFFFFFFFFFFFFFF)
    fp = EMPTY
    for byte in data:
        fp = (fp >> 8) ^ table[(fp ^ byte) & 0xFF]
    return fp


PRIMITIVES = {'null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string'}


def primitives_simple(node):
    """The specification's [PRIMITIVES] rule of the Parsing Canonical Form:
    {"type":"long"} is written "long". Apache Avro for Python 1.11 leaves it as
    an object where the schema had a logical type, so it is applied here."""
    if isinstance(node, dict):
        if set(node) == {'type'} and node['type'] in PRIMITIVES:
            return node['type']
        return {key: primitives_simple(value) for key, value in node.items()}
    if isinstance(node, list):
        return [primitives_simple(item) for item in node]
    return node


def canonical_form(schema) -> str:
    return json.dumps(primitives_simple(json.loads(schema.canonical_form)), separators=(',', ':'))


def millis(value):
    # Apache Avro turns timestamp-millis into an aware datetime
    return int(round(value.timestamp() * 1000)) if hasattr(value, 'timestamp') else value


def main() -> None:
    schema = avro.schema.parse(open(sys.argv[1]).read())
    fingerprint = struct.pack('<Q', crc64_avro(canonical_form(schema).encode('utf-8')))
    reader = avro.io.DatumReader(schema)
    data = sys.stdin.buffer.read()
    pos = 0
    while pos < len(data):
        (length,) = struct.unpack('>i', data[pos : pos + 4])
        value = data[pos + 4 : pos + 4 + length]
        pos += 4 + length
        if value[:2] != b'\xc3\x01':
            raise SystemExit('value without the single-object marker')
        if value[2:10] != fingerprint:
            raise SystemExit('fingerprint %s is not that of the schema (%s)' % (value[2:10].hex(), fingerprint.hex()))
        event = reader.read(avro.io.BinaryDecoder(io.BytesIO(value[10:])))
        event['timestamp'] = millis(event['timestamp'])
        print(json.dumps(event, sort_keys=True, default=str))


main()
