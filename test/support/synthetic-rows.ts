import { type SampleProfile, SeededRandom } from '#local/sample-data.ts';

/*
 * Rows for scale tests and benchmarks, generated one at a time: a million never sit in memory on
 * the writing side either. They have the sample data's columns (so the sample data matching maps
 * them), typed as a warehouse would export them, with a little of real data's mess: ~0.5%
 * addresses without "@" and ~0.5% addresses shared by two ids (the merge rule's job).
 */

// biome-ignore format: word lists read better dense
const FIRST = ['Olivia', 'Liam', 'Zoë', 'José', 'Chloé', 'Søren', 'Aiko', 'Priya', 'Chen', 'Fatima', 'Lars', 'Kwame', 'Amara', 'Lucía', 'Grace', 'Seán'];
// biome-ignore format: word lists read better dense
const LAST = ['Smith', 'García', 'Müller', "O'Brien", 'Nguyen', 'Kim', 'Patel', 'Rossi', 'Dubois', 'Kowalski', 'Tanaka', 'Silva', 'van der Berg', 'Walsh'];
// biome-ignore format: word lists read better dense
const COMPANIES = ['Acme Corp', 'Globex', 'Initech', 'Smith, Jones & Partners', '"Blue Sky" Ventures', 'Müller GmbH', 'Café Olé', 'Contoso'];
// biome-ignore format: word lists read better dense
const PLACES = [['London', 'United Kingdom'], ['München', 'Germany'], ['Lyon', 'France'], ['Oslo', 'Norway'], ['São Paulo', 'Brazil'], ['Tokyo', 'Japan'], ['Austin', 'United States']] as const;
const PLANS = ['free', 'starter', 'pro', 'enterprise'] as const;
const DOMAINS = ['example.com', 'example.org', 'mail.example.net'];
const ascii = (name: string): string =>
  name
    .normalize('NFD')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();
const FIRST_ASCII = FIRST.map(ascii);
const LAST_ASCII = LAST.map(ascii);
const DAY_MS = 86_400_000;
const EPOCH = Date.UTC(2018, 0, 1);
// Formatted once: a million Date objects made generation twice as slow.
const DAYS = Array.from({ length: 2801 }, (_, d) => new Date(EPOCH + d * DAY_MS).toISOString().slice(0, 10));
const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));

/** `count` deterministic rows (ids `c0000001`…); the same seed gives the same rows. */
export function* syntheticRows(count: number, seed: number): Generator<SampleProfile> {
  const rng = new SeededRandom(seed);
  let shared: string | undefined;
  for (let n = 1; n <= count; n++) {
    const f = rng.int(0, FIRST.length - 1);
    const l = rng.int(0, LAST.length - 1);
    const [city, country] = rng.pick(PLACES);
    const plan = rng.pick(PLANS);
    const local = `${FIRST_ASCII[f]}.${LAST_ASCII[l]}${n}`;
    let email = rng.chance(0.005) ? `${local}${rng.pick(DOMAINS)}` : `${local}@${rng.pick(DOMAINS)}`;
    if (shared !== undefined && rng.chance(0.005)) email = shared;
    else if (n % 997 === 0) shared = email;
    const signup = rng.int(0, 2400);
    const updated = signup + rng.int(0, 400);
    yield {
      id: `c${String(n).padStart(7, '0')}`,
      email,
      first_name: FIRST[f] as string,
      last_name: LAST[l] as string,
      company: rng.chance(0.1) ? undefined : rng.pick(COMPANIES),
      city,
      country,
      plan,
      seats: plan === 'free' ? 1 : rng.int(1, 500),
      lifetime_value: Math.round(rng.next() * 250_000) / 100,
      trial: rng.chance(0.2),
      signup_date: DAYS[signup] as string,
      updated_at: `${DAYS[updated]}T${TWO_DIGITS[rng.int(0, 23)]}:${TWO_DIGITS[rng.int(0, 59)]}:${TWO_DIGITS[rng.int(0, 59)]}.000Z`,
    };
  }
}
