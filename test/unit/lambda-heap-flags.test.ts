import { describe, expect, it } from 'vitest';
import { effectiveHeapFlags, lambdaNodeFlags, parseHeapOption } from '../../bench/lib/lambda-node-flags.ts';
import { plannerNodeOptions } from '../../cdk/stacks/stateless-stack.ts';

describe('the heap limits a Lambda function runs with', () => {
  it('are the runtime’s own (a tenth of the memory as young generation) when NODE_OPTIONS names none', () => {
    expect(lambdaNodeFlags(1024)).toEqual(['--max-semi-space-size=51', '--max-old-space-size=922']);
    expect(effectiveHeapFlags(1024, ['--enable-source-maps'])).toEqual(lambdaNodeFlags(1024));
  });

  it('are only those NODE_OPTIONS names once it names either, in either spelling', () => {
    expect(effectiveHeapFlags(1024, ['--enable-source-maps', '--max_semi_space_size=8'])).toEqual([
      '--max_semi_space_size=8',
    ]);
    expect(effectiveHeapFlags(1024, ['--max-old-space-size=500'])).toEqual(['--max-old-space-size=500']);
  });

  it('for the planner keep the runtime’s old space beside the measured young generation', () => {
    expect(effectiveHeapFlags(1024, plannerNodeOptions(1024))).toEqual([
      '--max-semi-space-size=8',
      '--max-old-space-size=922',
    ]);
  });

  it('for a bench size given by --heap are the limits it names, and a limit that cannot fit is refused', () => {
    expect(parseHeapOption('128:old=64,semi=2')).toEqual({
      memoryMB: 128,
      nodeOptions: ['--max-semi-space-size=2', '--max-old-space-size=64'],
    });
    expect(parseHeapOption('256:old=200').nodeOptions).toEqual(['--max-old-space-size=200']);
    expect(() => parseHeapOption('128:old=128')).toThrow('does not fit 128 MB');
    expect(() => parseHeapOption('128:old=64,old=32')).toThrow('old is given twice');
    expect(() => parseHeapOption('128')).toThrow('expected <memory MB>:old=<MB>,semi=<MB>');
  });
});
