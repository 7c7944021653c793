/**
 * rate-limiter-flexible's base class of store-backed limiters: declared in its types, but its
 * package index does not export it, so it is imported from its file.
 */
declare module "rate-limiter-flexible/lib/RateLimiterStoreAbstract.js" {
  import { RateLimiterStoreAbstract } from "rate-limiter-flexible";
  export default RateLimiterStoreAbstract;
}
