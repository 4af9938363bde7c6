import { InMemoryStateStore } from '#test/fakes/in-memory-state-store.ts';
import { describeStateStoreContract } from '#test/support/state-store-contract.ts';

describeStateStoreContract('InMemoryStateStore', async () => new InMemoryStateStore());
