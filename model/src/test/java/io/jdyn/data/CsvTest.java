package io.jdyn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jdyn.DType;
import io.jdyn.io.FormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CsvTest {
    @TempDir
    Path dir;

    @Test
    void readsHeaderDelimiterAndLabels() throws Exception {
        Path f = dir.resolve("a.csv");
        Files.writeString(f, "x;cls;y\n1.5;0;-2\n\n3e-2;1;nan\n");
        Dataset d = Csv.read(f, Csv.Options.defaults().withHeader(true).withDelimiter(';').withLabelColumn(1));
        assertEquals(2, d.size());
        assertEquals(2, d.dim());
        assertArrayEquals(new int[] {0, 1}, d.y());
        assertEquals(1.5, d.features()[0]);
        assertTrue(Double.isNaN(d.features()[3]));
        Dataset byName = Csv.read(f, Csv.Options.defaults().withDelimiter(';').withLabelColumn("cls"));
        assertArrayEquals(d.y(), byName.y());

        Path g = dir.resolve("b.csv");
        Files.writeString(g, "1,2,3\n4,5,6\n");
        Dataset plain = Csv.read(g);
        assertFalse(plain.hasLabels());
        assertEquals(3, plain.dim());
    }

    @Test
    void roundTrip() throws Exception {
        Dataset d = ToyDataset.moons(37, 0.2, 4, DType.FLOAT64);
        Path f = dir.resolve("m.csv");
        Csv.Options o = Csv.Options.defaults().withHeader(true).withLabelColumn(2);
        Csv.write(f, d, o);
        Dataset r = Csv.read(f, o);
        assertArrayEquals(d.features(), r.features());
        assertArrayEquals(d.y(), r.y());
        Dataset f32 = ToyDataset.moons(9, 0.2, 4, DType.FLOAT32);
        Csv.write(f, f32, Csv.Options.defaults());
        assertArrayEquals(f32.features(), Csv.read(f, Csv.Options.defaults().withDType(DType.FLOAT32)).features());
    }

    private String error(String content, Csv.Options o) throws Exception {
        Path f = dir.resolve("bad.csv");
        Files.writeString(f, content);
        FormatException e = assertThrows(FormatException.class, () -> Csv.read(f, o));
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        return e.getMessage();
    }

    @Test
    void malformedFilesAreNamed() throws Exception {
        Csv.Options o = Csv.Options.defaults();
        assertTrue(error("1,2\n3\n", o).contains("line 2 has 1 fields, expected 2"));
        assertTrue(error("1,2\n3,abc\n", o).contains("line 2, column 2: \"abc\" is not a number"));
        assertTrue(error("1,2\n3,\n", o).contains("line 2, column 2"));
        assertTrue(error("1,2.5\n", o.withLabelColumn(1)).contains("label \"2.5\" is not an integer"));
        assertTrue(error("a,b\n", o.withHeader(true)).contains("no data rows"));
        assertTrue(error("a,b\n1,2\n", o.withLabelColumn("c")).contains("no column named \"c\""));
        assertTrue(error("1,2\n", o.withLabelColumn(5)).contains("label column 5"));
    }
}
