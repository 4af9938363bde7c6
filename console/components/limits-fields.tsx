import { fieldError, type Problem } from '../api/problems.ts';
import { TextField } from './form.tsx';

/** A connection's rate budget and cap, as the add and edit forms both ask for them. */
export const LimitsFields = ({
  idPrefix,
  rate,
  onRate,
  rateHint,
  cap,
  onCap,
  problem,
}: {
  /** Prepended to the inputs' ids, so two forms on one page never share one. */
  idPrefix: string;
  rate: string;
  onRate: (value: string) => void;
  rateHint?: string;
  cap: string;
  onCap: (value: string) => void;
  problem: Problem | undefined;
}) => (
  <>
    <TextField
      id={`${idPrefix}ratePerSecond`}
      label="Rate budget (requests per second)"
      type="number"
      step="0.1"
      min="0.1"
      {...(rateHint === undefined ? {} : { hint: rateHint })}
      value={rate}
      onInput={onRate}
      error={fieldError(problem, 'ratePerSecond')}
    />
    <TextField
      id={`${idPrefix}cap`}
      label="Cap (most contacts one export may send)"
      type="number"
      step="1"
      min="1"
      value={cap}
      onInput={onCap}
      error={fieldError(problem, 'cap')}
    />
  </>
);
