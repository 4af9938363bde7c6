import { runHref } from './export-labels.ts';
import { type Health, healthText } from './health-text.ts';

/**
 * An export's health as a small badge whose words carry the meaning (colour only repeats it). Any
 * state but healthy links to the run that set it, where a held run is approved or rejected.
 */
export const HealthBadge = ({ health }: { health: Health | null }) => {
  const text = healthText(health);
  const className = `badge badge-${health?.state ?? 'unknown'}`;
  return health === null || health.state === 'healthy' ? (
    <span class={className}>{text}</span>
  ) : (
    <a class={className} href={runHref(health.runId)}>
      {text}
    </a>
  );
};
