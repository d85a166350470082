/**
 * Seeded synthetic traffic for a classified-ads site: labelled legitimate users of every tier
 * and the attacks the reference policy is built for. Deterministic for a seed, so the demo and
 * its tests always see the same stream.
 */
import type { Action } from '../types.js';

export interface LabelledAction {
  /** Virtual time (epoch ms). */
  at: number;
  action: Action;
  label: 'spam' | 'ham';
  /** Which scenario produced it, for reports. */
  scenario: string;
}

export interface SyntheticOptions {
  /** @default 42 */
  seed?: number;
  /** Start of the virtual clock. @default 2026-01-05T08:00:00Z */
  start?: number;
  /** Legitimate users. @default 300 */
  users?: number;
}

/** A small, fast, seedable PRNG (mulberry32): the demo needs repeatability, not cryptography. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ITEMS = ['bicycle', 'sofa', 'guitar', 'laptop', 'stroller', 'desk', 'camera', 'kayak', 'lamp', 'bookshelf', 'piano', 'drill', 'tent', 'aquarium', 'armchair', 'monitor', 'scooter', 'rug'];
const ADJECTIVES = ['vintage', 'barely used', 'solid oak', 'red', 'compact', 'foldable', 'antique', 'second-hand', 'almost new', 'large'];
const PLACES = ['Leeds', 'Lyon', 'Porto', 'Graz', 'Utrecht', 'Malmo', 'Bergen', 'Ghent'];
const SPAM_BODIES = [
  'Make FREE MONEY from home!!! Guaranteed returns, click here http://win.example/x http://win.example/y http://bit.ly/z',
  'Best online casino bonus, bitcoin accepted, whatsapp +44 7700 900123 now',
  'Cheap ѵіаgrа and c\u200Bialis, no prescription, discreet shipping www.pills.example',
  'Work from home investment opportunity: forex signals, $$$ guaranteed, click here http://fx.example',
];
const USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/140.0';

const DAY = 24 * 3_600_000;

/**
 * Many days of the same site, one `syntheticTraffic` day after another (seed + day, start + day),
 * generated a day at a time: `actions` of them, in time order, in the memory of one day. The
 * same users and attackers come back every day, as on a real site. For `replay` benchmarks.
 */
export function* syntheticStream(options: SyntheticOptions & { actions: number }): Generator<LabelledAction> {
  const seed = options.seed ?? 42;
  const start = options.start ?? Date.UTC(2026, 0, 5, 8);
  let left = options.actions;
  for (let day = 0; left > 0; day++) {
    for (const item of syntheticTraffic({ ...options, seed: seed + day, start: start + day * DAY })) {
      if (left-- <= 0) return;
      yield item;
    }
  }
}

export function syntheticTraffic(options: SyntheticOptions = {}): LabelledAction[] {
  const random = prng(options.seed ?? 42);
  const start = options.start ?? Date.UTC(2026, 0, 5, 8);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const hour = 3_600_000;
  const day = 24 * hour;
  const out: LabelledAction[] = [];
  const viaProxy = (client: string, extra: Record<string, unknown> = {}) => ({
    request: { remoteAddress: '10.0.0.5', headers: { 'x-forwarded-for': client, 'user-agent': USER_AGENT } },
    attributes: { userAgent: USER_AGENT, ...extra },
  });
  const legitAd = () => {
    const item = pick(ITEMS);
    return {
      title: `${pick(ADJECTIVES)} ${item} for sale in ${pick(PLACES)}`,
      body: `Selling my ${item}, ${int(1, 12)} years old, works well. Pick up only, ${int(10, 900)} euros or best offer. Message me here.`,
    };
  };

  // Legitimate users: anonymous, registered and verified, a few ads each over the day.
  const users = options.users ?? 300;
  for (let u = 0; u < users; u++) {
    const status = u % 10 < 5 ? 'anonymous' : u % 10 < 8 ? 'registered' : 'verified';
    const ip = u % 4 === 0 ? `2001:db8:${(u + 16).toString(16)}:${u.toString(16)}::${int(1, 999).toString(16)}` : `198.18.${Math.floor(u / 250)}.${(u % 250) + 1}`;
    const createdAt = start - (status === 'anonymous' ? int(0, 2) * day : int(30, 900) * day);
    const ads = status === 'verified' ? int(2, 8) : status === 'registered' ? int(1, 4) : int(1, 2);
    let at = start + Math.floor(random() * 10 * hour);
    for (let k = 0; k < ads; k++) {
      at += int(2, 40) * 60_000;
      out.push({ at, label: 'ham', scenario: `legit-${status}`, action: { action: 'ad.submit', ...viaProxy(ip), actor: { id: `user-${u}`, status, createdAt }, content: legitAd() } });
    }
  }

  // A flood from one IP, with a fresh anonymous session id on every request.
  let at = start + 2 * hour;
  for (let k = 0; k < 200; k++) {
    at += int(500, 3000);
    out.push({ at, label: 'spam', scenario: 'flood-one-ip', action: { action: 'ad.submit', ...viaProxy('198.19.7.7'), actor: { id: `flood-${k}`, status: 'anonymous' }, content: legitAd() } });
  }

  // A bot rotating through addresses of one IPv6 /64.
  at = start + 3 * hour;
  for (let k = 0; k < 150; k++) {
    at += int(1000, 5000);
    const host = [int(0, 0xffff), int(0, 0xffff), int(0, 0xffff), int(0, 0xffff)].map((n) => n.toString(16)).join(':');
    out.push({ at, label: 'spam', scenario: 'ipv6-rotation', action: { action: 'ad.submit', ...viaProxy(`2001:db8:abcd:12:${host}`), actor: { id: `v6bot-${k}`, status: 'anonymous' }, content: legitAd() } });
  }

  // A spammer inside a listed range.
  at = start + 4 * hour;
  for (let k = 0; k < 40; k++) {
    at += int(30_000, 300_000);
    out.push({ at, label: 'spam', scenario: 'listed-range', action: { action: 'ad.submit', ...viaProxy(`203.0.113.${int(1, 254)}`), actor: { id: `listed-${k % 5}`, status: 'registered', createdAt: start - day }, content: { title: 'Great deal', body: pick(SPAM_BODIES) } } });
  }

  // One ad body from many addresses and accounts: a campaign.
  at = start + 5 * hour;
  const campaign = { title: 'Apartment for rent, central location', body: 'Beautiful flat, 2 rooms, available now. Send deposit by wire transfer to reserve, owner abroad. Contact rentals.example@mail.example' };
  for (let k = 0; k < 60; k++) {
    at += int(5_000, 40_000);
    out.push({ at, label: 'spam', scenario: 'campaign-duplicate', action: { action: 'ad.submit', ...viaProxy(`198.18.${200 + (k % 50)}.${int(1, 254)}`), actor: { id: `camp-${k}`, status: 'anonymous' }, content: campaign } });
  }

  // A client talking to the app directly (not through the proxy) with a forged header.
  at = start + 6 * hour;
  for (let k = 0; k < 120; k++) {
    at += int(500, 4000);
    out.push({
      at, label: 'spam', scenario: 'spoofed-xff',
      action: {
        action: 'ad.submit',
        request: { remoteAddress: '198.19.99.1', headers: { 'x-forwarded-for': `${int(1, 223)}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`, 'user-agent': 'python-requests' } },
        attributes: { userAgent: 'python-requests' },
        actor: { id: `spoof-${k}`, status: 'anonymous' },
        content: legitAd(),
      },
    });
  }

  // Spam content from otherwise unremarkable accounts, some disguised with look-alike letters.
  at = start + 1 * hour;
  for (let k = 0; k < 80; k++) {
    at += int(60_000, 600_000);
    out.push({ at, label: 'spam', scenario: 'spam-content', action: { action: 'ad.submit', ...viaProxy(`198.18.${100 + (k % 60)}.${int(1, 254)}`), actor: { id: `content-${k}`, status: 'anonymous', createdAt: at - int(1, 20) * 60_000 }, content: { title: `${pick(ITEMS)} ${k}`, body: `${pick(SPAM_BODIES)} ref ${k}` } } });
  }

  return out.sort((a, b) => a.at - b.at);
}
