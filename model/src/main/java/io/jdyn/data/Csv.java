package io.jdyn.data;

import io.jdyn.DType;
import io.jdyn.io.AtomicFiles;
import io.jdyn.io.FormatException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Numeric CSV files as a {@link Dataset}: every field a number (Java/Python float syntax, including
 * nan and inf), optionally a header row and one integer label column. Blank lines are skipped; no
 * quoting. Malformed files give a {@link FormatException} naming the file, the line and the problem.
 */
public final class Csv {
    private Csv() {}

    /**
     * How a file is laid out: whether its first row is a header, the delimiter, the label column (its
     * 0-based index, or -1 for none; {@link #withLabelColumn(String)} picks it by header name) and the
     * dtype of the features.
     */
    public record Options(boolean header, char delimiter, int labelColumn, String labelName, DType dtype) {
        public Options {
            Objects.requireNonNull(dtype, "dtype");
            if (labelColumn < -1) throw new IllegalArgumentException("labelColumn must be >= -1, got " + labelColumn);
            if (delimiter == '\n' || delimiter == '\r' || delimiter == '"') {
                throw new IllegalArgumentException("invalid delimiter " + (int) delimiter);
            }
        }

        /** No header, comma, no label column, FLOAT64. */
        public static Options defaults() {
            return new Options(false, ',', -1, null, DType.FLOAT64);
        }

        public Options withHeader(boolean h) {
            return new Options(h, delimiter, labelColumn, labelName, dtype);
        }

        public Options withDelimiter(char d) {
            return new Options(header, d, labelColumn, labelName, dtype);
        }

        /** The label column by 0-based index (-1: none). */
        public Options withLabelColumn(int column) {
            return new Options(header, delimiter, column, null, dtype);
        }

        /** The label column by its header name (needs a header). */
        public Options withLabelColumn(String name) {
            return new Options(true, delimiter, -1, Objects.requireNonNull(name, "name"), dtype);
        }

        public Options withDType(DType t) {
            return new Options(header, delimiter, labelColumn, labelName, t);
        }
    }

    /** Reads a file with {@link Options#defaults()}. */
    public static Dataset read(Path file) throws IOException {
        return read(file, Options.defaults());
    }

    public static Dataset read(Path file, Options options) throws IOException {
        Objects.requireNonNull(options, "options");
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new FormatException(file, "is not valid UTF-8 text", e);
        }
        String delim = String.valueOf(options.delimiter());
        int columns = -1;
        int label = options.labelColumn();
        List<double[]> rows = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        boolean headerSeen = !options.header();
        for (int ln = 0; ln < lines.size(); ln++) {
            String line = lines.get(ln);
            if (ln == 0 && line.startsWith("\uFEFF")) line = line.substring(1);
            if (line.isBlank()) continue;
            String[] fields = line.split(java.util.regex.Pattern.quote(delim), -1);
            if (!headerSeen) {
                headerSeen = true;
                columns = fields.length;
                if (options.labelName() != null) {
                    label = -1;
                    for (int c = 0; c < fields.length; c++) if (fields[c].trim().equals(options.labelName())) label = c;
                    if (label < 0) throw new FormatException(file, "header (line " + (ln + 1) + ") has no column named \""
                            + options.labelName() + "\"");
                }
                continue;
            }
            if (columns < 0) columns = fields.length;
            if (fields.length != columns) {
                throw new FormatException(file, "line " + (ln + 1) + " has " + fields.length + " fields, expected " + columns);
            }
            if (label >= columns) {
                throw new FormatException(file, "label column " + label + " is outside the " + columns + " columns");
            }
            if (columns - (label >= 0 ? 1 : 0) < 1) throw new FormatException(file, "has no feature columns");
            double[] row = new double[columns - (label >= 0 ? 1 : 0)];
            int k = 0;
            for (int c = 0; c < columns; c++) {
                String t = fields[c].trim();
                if (c == label) {
                    try {
                        labels.add(Integer.parseInt(t));
                    } catch (NumberFormatException e) {
                        throw new FormatException(file, "line " + (ln + 1) + ", column " + (c + 1) + ": label \"" + t
                                + "\" is not an integer");
                    }
                } else {
                    row[k++] = number(file, t, ln, c);
                }
            }
            rows.add(row);
        }
        if (rows.isEmpty()) throw new FormatException(file, "has no data rows");
        int dim = rows.get(0).length;
        double[] x = new double[Math.multiplyExact(rows.size(), dim)];
        for (int i = 0; i < rows.size(); i++) System.arraycopy(rows.get(i), 0, x, i * dim, dim);
        int[] y = label >= 0 ? labels.stream().mapToInt(Integer::intValue).toArray() : null;
        return new Dataset(x, rows.size(), dim, y, options.dtype());
    }

    private static double number(Path file, String t, int ln, int c) throws FormatException {
        switch (t.toLowerCase(java.util.Locale.ROOT)) {
            case "nan":
                return Double.NaN;
            case "inf", "+inf", "infinity", "+infinity":
                return Double.POSITIVE_INFINITY;
            case "-inf", "-infinity":
                return Double.NEGATIVE_INFINITY;
            default:
                break;
        }
        if (t.isEmpty() || !(Character.isDigit(t.charAt(t.length() - 1)) || t.charAt(t.length() - 1) == '.')) {
            throw new FormatException(file, "line " + (ln + 1) + ", column " + (c + 1) + ": \"" + t + "\" is not a number");
        }
        try {
            return Double.parseDouble(t);
        } catch (NumberFormatException e) {
            throw new FormatException(file, "line " + (ln + 1) + ", column " + (c + 1) + ": \"" + t + "\" is not a number");
        }
    }

    /**
     * Writes a data set atomically: a header row if options.header() (x0, x1, ..., and "label"), the
     * labels (when the data set has them and options name a label column index) at that column, values
     * in Java's shortest round-trip form.
     */
    public static void write(Path file, Dataset data, Options options) throws IOException {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(options, "options");
        int label = data.hasLabels() ? options.labelColumn() : -1;
        if (label > data.dim()) throw new IllegalArgumentException("label column " + label + " is past the " + data.dim() + " features");
        char d = options.delimiter();
        StringBuilder sb = new StringBuilder();
        if (options.header()) {
            int f = 0;
            for (int c = 0; c < data.dim() + (label >= 0 ? 1 : 0); c++) {
                if (c > 0) sb.append(d);
                sb.append(c == label ? (options.labelName() != null ? options.labelName() : "label") : "x" + f++);
            }
            sb.append('\n');
        }
        double[] x = data.features();
        for (int i = 0; i < data.size(); i++) {
            int f = 0;
            for (int c = 0; c < data.dim() + (label >= 0 ? 1 : 0); c++) {
                if (c > 0) sb.append(d);
                if (c == label) sb.append(data.label(i));
                else sb.append(x[i * data.dim() + f++]);
            }
            sb.append('\n');
        }
        byte[] bytes = sb.toString().getBytes(StandardCharsets.UTF_8);
        AtomicFiles.write(file, sink -> sink.write(ByteBuffer.wrap(bytes)));
    }
}
