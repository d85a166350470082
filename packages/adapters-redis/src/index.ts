/**
 * @actiongate/redis: the Actiongate store on Redis (ioredis or node-redis, single server or Cluster).
 */
export { RedisStore, type RedisStoreOptions } from './redis-store.js';
export { keySlot } from './slot.js';
