package io.jdyn.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON reader and writer (RFC 8259), for jdyn's own files (checkpoint architectures, the
 * native-image metadata test). Objects read as LinkedHashMap, arrays as
 * ArrayList, integers as Long, other numbers as Double; writing accepts the same types (and Integer,
 * Boolean, null). Doubles are written in Java's shortest round-trip form.
 */
public final class Json {
    /** A malformed document, with the position of the problem. */
    public static final class ParseException extends Exception {
        ParseException(String message) {
            super(message);
        }
    }

    private final String s;
    private int i;

    private Json(String s) {
        this.s = s;
    }

    public static Object parse(String text) throws ParseException {
        Json p = new Json(text);
        p.ws();
        Object v = p.value(0);
        p.ws();
        if (p.i != text.length()) throw p.error("unexpected content after the JSON value");
        return v;
    }

    private ParseException error(String what) {
        return new ParseException(what + " at character " + i);
    }

    private void ws() {
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') i++;
            else break;
        }
    }

    private Object value(int depth) throws ParseException {
        if (depth > 64) throw error("nesting deeper than 64");
        if (i >= s.length()) throw error("unexpected end of the document");
        char c = s.charAt(i);
        switch (c) {
            case '{': {
                i++;
                Map<String, Object> m = new LinkedHashMap<>();
                ws();
                if (peek('}')) {
                    i++;
                    return m;
                }
                while (true) {
                    ws();
                    if (!peek('"')) throw error("expected a string key");
                    String k = string();
                    ws();
                    expect(':');
                    ws();
                    Object v = value(depth + 1);
                    if (m.containsKey(k)) throw error("duplicate key \"" + k + "\"");
                    m.put(k, v);
                    ws();
                    if (peek(',')) {
                        i++;
                        continue;
                    }
                    expect('}');
                    return m;
                }
            }
            case '[': {
                i++;
                List<Object> a = new ArrayList<>();
                ws();
                if (peek(']')) {
                    i++;
                    return a;
                }
                while (true) {
                    ws();
                    a.add(value(depth + 1));
                    ws();
                    if (peek(',')) {
                        i++;
                        continue;
                    }
                    expect(']');
                    return a;
                }
            }
            case '"':
                return string();
            case 't':
                literal("true");
                return Boolean.TRUE;
            case 'f':
                literal("false");
                return Boolean.FALSE;
            case 'n':
                literal("null");
                return null;
            default:
                if (c == '-' || (c >= '0' && c <= '9')) return number();
                throw error("unexpected character '" + c + "'");
        }
    }

    private boolean peek(char c) {
        return i < s.length() && s.charAt(i) == c;
    }

    private void expect(char c) throws ParseException {
        if (!peek(c)) throw error("expected '" + c + "'");
        i++;
    }

    private void literal(String word) throws ParseException {
        if (!s.startsWith(word, i)) throw error("invalid literal");
        i += word.length();
    }

    private Object number() throws ParseException {
        int start = i;
        if (peek('-')) i++;
        if (peek('0')) i++;
        else if (i < s.length() && Character.isDigit(s.charAt(i))) while (i < s.length() && Character.isDigit(s.charAt(i))) i++;
        else throw error("invalid number");
        boolean integer = true;
        if (peek('.')) {
            integer = false;
            i++;
            int d = i;
            while (i < s.length() && Character.isDigit(s.charAt(i))) i++;
            if (d == i) throw error("invalid number");
        }
        if (peek('e') || peek('E')) {
            integer = false;
            i++;
            if (peek('+') || peek('-')) i++;
            int d = i;
            while (i < s.length() && Character.isDigit(s.charAt(i))) i++;
            if (d == i) throw error("invalid number");
        }
        String t = s.substring(start, i);
        if (integer) {
            try {
                return Long.parseLong(t);
            } catch (NumberFormatException e) {
                throw error("integer " + t + " out of range");
            }
        }
        return Double.parseDouble(t);
    }

    private String string() throws ParseException {
        expect('"');
        StringBuilder b = new StringBuilder();
        while (true) {
            if (i >= s.length()) throw error("unterminated string");
            char c = s.charAt(i++);
            if (c == '"') return b.toString();
            if (c < 0x20) throw error("control character in a string");
            if (c != '\\') {
                b.append(c);
                continue;
            }
            if (i >= s.length()) throw error("unterminated string");
            char e = s.charAt(i++);
            switch (e) {
                case '"', '\\', '/' -> b.append(e);
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'u' -> {
                    if (i + 4 > s.length()) throw error("bad \\u escape");
                    try {
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                    } catch (NumberFormatException ex) {
                        throw error("bad \\u escape");
                    }
                    i += 4;
                }
                default -> throw error("bad escape \\" + e);
            }
        }
    }

    public static String write(Object v) {
        StringBuilder b = new StringBuilder();
        write(b, v);
        return b.toString();
    }

    private static void write(StringBuilder b, Object v) {
        if (v == null) {
            b.append("null");
        } else if (v instanceof String str) {
            quote(b, str);
        } else if (v instanceof Boolean || v instanceof Long || v instanceof Integer) {
            b.append(v);
        } else if (v instanceof Double d) {
            if (!Double.isFinite(d)) throw new IllegalArgumentException("JSON cannot hold " + d);
            b.append(d);
        } else if (v instanceof Map<?, ?> m) {
            b.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                if (!first) b.append(',');
                first = false;
                quote(b, (String) e.getKey());
                b.append(':');
                write(b, e.getValue());
            }
            b.append('}');
        } else if (v instanceof List<?> l) {
            b.append('[');
            for (int k = 0; k < l.size(); k++) {
                if (k > 0) b.append(',');
                write(b, l.get(k));
            }
            b.append(']');
        } else {
            throw new IllegalArgumentException("cannot write " + v.getClass() + " as JSON");
        }
    }

    private static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        b.append('"');
    }
}
