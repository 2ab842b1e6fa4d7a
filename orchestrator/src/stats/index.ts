export { rateWithCI, rateUpperBound, formatRate, type RateEstimate, type RateMethod } from './binomial.ts';
export { fisherExact, type FisherResult } from './fisher.ts';
export { compareThroughput, median, quantile, hodgesLehmannRank, mannWhitneyNullCdf, type ThroughputComparison } from './throughput.ts';
export { adaptiveDecision, pairedMixtureLogE, type AdaptiveDecision, type AdaptiveRule, type AdaptiveVerdict, type RunObservation } from './sequential.ts';
export { betainc, betaincinv, lnBeta, lnGamma, lnChoose, normalCdf, normalQuantile, erfc } from './special.ts';
