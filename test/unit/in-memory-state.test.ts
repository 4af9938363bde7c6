import { createInMemoryState } from '#test/fakes/in-memory-state.ts';
import { describeStateContracts } from '#test/support/contracts/index.ts';

describeStateContracts('in memory', async () => createInMemoryState());
