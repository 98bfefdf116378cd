import { SpoolReader } from '../../common/spool/spool-reader.js';
import { LocalTransport } from '../../producer/transport.js';
import { tempDir } from '../helpers.js';
import { eventTransportConformance } from './event-transport.conformance.js';

eventTransportConformance('LocalTransport', async (t) => {
  const dir = await tempDir(t);
  const transport = new LocalTransport({ dir });
  t.after(() => transport.close());
  return {
    transport,
    durable: async () => (await new SpoolReader(dir).read(0, 1_000_000)).map((r) => r.value),
  };
});
