package io.jdyn.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
    @Test
    void roundTrip() throws Exception {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", 1L);
        m.put("b", List.of(0.1, -2.5e-300, true, false));
        m.put("c\n\"", "x\u0001y\\");
        m.put("d", null);
        String s = Json.write(m);
        assertEquals(m, Json.parse(s));
        assertEquals(Map.of("k", List.of(1L, 2.0)), Json.parse(" {\"k\" : [1, 2.0]} \n"));
        assertEquals("\u00e9", Json.parse("\"\\u00e9\""));
    }

    @Test
    void malformed() {
        for (String bad : new String[] {"", "{", "{\"a\":}", "[1,]", "{\"a\":1}x", "01", "\"abc", "{\"a\":1,\"a\":2}", "nul",
                "99999999999999999999"}) {
            assertThrows(Json.ParseException.class, () -> Json.parse(bad), bad);
        }
    }
}
