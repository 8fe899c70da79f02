package io.jdyn.bench;

import java.math.BigDecimal;
import java.math.MathContext;

/** One JSON object on one line, written by hand: keys in insertion order, numbers to 6 significant digits. */
final class Json {
    private final StringBuilder sb = new StringBuilder("{");
    private boolean first = true;

    /** A line for a benchmark: starts with "bench". */
    static Json bench(String name) {
        return new Json().str("bench", name);
    }

    Json str(String key, String value) {
        key(key);
        if (value == null) {
            sb.append("null");
        } else {
            quote(value);
        }
        return this;
    }

    Json num(String key, double value) {
        key(key);
        sb.append(number(value));
        return this;
    }

    Json num(String key, long value) {
        key(key);
        sb.append(value);
        return this;
    }

    Json bool(String key, boolean value) {
        key(key);
        sb.append(value);
        return this;
    }

    /** An explicit null, for a value that could not be measured. */
    Json nul(String key) {
        key(key);
        sb.append("null");
        return this;
    }

    @Override
    public String toString() {
        return sb + "}";
    }

    /** JSON has no NaN or infinity: those become null. */
    static String number(double v) {
        if (!Double.isFinite(v)) return "null";
        if (v == 0) return "0";
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
        BigDecimal d = new BigDecimal(v).round(new MathContext(6)).stripTrailingZeros();
        double a = Math.abs(v);
        return a >= 1e-4 && a < 1e15 ? d.toPlainString() : d.toString();
    }

    private void key(String key) {
        if (!first) sb.append(',');
        first = false;
        quote(key);
        sb.append(':');
    }

    private void quote(String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append('"');
    }
}
