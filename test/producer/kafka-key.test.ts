import assert from 'node:assert/strict';
import { test } from 'node:test';
import { kafkaKeyFor } from '../../producer/kafka-key.js';
import { record } from '../helpers.js';

test('every event has a Kafka key: package name, else source, else id', () => {
  const cases: [Parameters<typeof record>[0], string][] = [
    [{ package_name: 'left-pad', source: 'host-1' }, 'left-pad'],
    [{ package_name: null, source: 'host-1', event_type: 'ConfigurationChange' }, 'host-1'],
    [{ package_name: null, source: null, event_type: 'ConfigurationChange' }, record().id],
  ];
  for (const [overrides, key] of cases) assert.equal(kafkaKeyFor(record(overrides)), key);
});

test('a resent event gets the same key as its first copy', () => {
  const first = record({ package_name: null, source: null, event_type: 'IntegrityCheck' });
  const resent = { ...first, details: { ...first.details } };
  assert.equal(kafkaKeyFor(resent), kafkaKeyFor(first));
});
