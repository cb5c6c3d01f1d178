package dev.zksdk.benchmarks.report;

import java.util.List;

/** Order statistics and means of a handful of iteration or round values. */
final class Stats {

    private Stats() {}

    /** The median; NaN for no values. */
    static double median(List<Double> values) {
        if (values.isEmpty()) {
            return Double.NaN;
        }
        double[] sorted =
                values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        int mid = sorted.length / 2;
        return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    static double min(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).min().orElse(Double.NaN);
    }

    static double max(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
    }

    static double mean(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }

    /** Two-sided 97.5% quantiles of Student's t for 1 to 30 degrees of freedom. */
    private static final double[] T_975 = {
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
        2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042
    };

    /**
     * Half-width of the 95% confidence interval of the mean of {@code values} (Student's t, the values taken as
     * independent samples); NaN for fewer than two.
     */
    static double halfWidth95(List<Double> values) {
        int n = values.size();
        if (n < 2) {
            return Double.NaN;
        }
        double mean = mean(values);
        double squares =
                values.stream().mapToDouble(v -> (v - mean) * (v - mean)).sum();
        double t = n - 1 <= T_975.length ? T_975[n - 2] : 1.960;
        return t * Math.sqrt(squares / (n - 1)) / Math.sqrt(n);
    }

    /**
     * A distribution-free 95% confidence interval of the {@code q} quantile (0 to 1) of the population the values were
     * drawn from: the order statistics {@code x(l)} and {@code x(u)} with {@code P(B < l) <= 0.025} and
     * {@code P(B >= u) <= 0.025} for {@code B ~ Binomial(n, q)}. An end is NaN where the sample is too small to bound
     * it (with 3 values, neither end of the median's interval is bounded).
     *
     * @return {@code {lower, upper}}
     */
    static double[] quantileInterval95(List<Double> values, double q) {
        int n = values.size();
        double[] sorted =
                values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double[] cdf = new double[n + 1];
        double sum = 0;
        for (int k = 0; k <= n; k++) {
            sum += binomial(n, k, q);
            cdf[k] = sum;
        }
        // Largest l (1-based) with P(B <= l - 1) <= 0.025; smallest u with P(B <= u - 1) >= 0.975.
        int lower = 0;
        for (int l = 1; l <= n; l++) {
            if (cdf[l - 1] <= 0.025) {
                lower = l;
            }
        }
        int upper = n + 1;
        for (int u = n; u >= 1; u--) {
            if (cdf[u - 1] >= 0.975) {
                upper = u;
            }
        }
        return new double[] {lower >= 1 ? sorted[lower - 1] : Double.NaN, upper <= n ? sorted[upper - 1] : Double.NaN};
    }

    private static double binomial(int n, int k, double p) {
        double logChoose = 0;
        for (int i = 1; i <= k; i++) {
            logChoose += Math.log(n - k + i) - Math.log(i);
        }
        if (p <= 0) {
            return k == 0 ? 1 : 0;
        }
        if (p >= 1) {
            return k == n ? 1 : 0;
        }
        return Math.exp(logChoose + k * Math.log(p) + (n - k) * Math.log1p(-p));
    }
}
