package io.jdyn.bench;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import org.hipparchus.ode.nonstiff.EmbeddedRungeKuttaIntegrator;

/** Facts about the Hipparchus baseline. */
final class Hipparchus {
    private Hipparchus() {}

    /** "hipparchus 4.0.2", from the jar's manifest where it says. */
    static String version() {
        String v = EmbeddedRungeKuttaIntegrator.class.getPackage().getImplementationVersion();
        if (v == null) {
            try (InputStream in = EmbeddedRungeKuttaIntegrator.class.getResourceAsStream(
                    "/META-INF/maven/org.hipparchus/hipparchus-ode/pom.properties")) {
                if (in != null) {
                    Properties p = new Properties();
                    p.load(in);
                    v = p.getProperty("version");
                }
            } catch (IOException e) {
                v = null;
            }
        }
        return v == null ? "hipparchus" : "hipparchus " + v;
    }

    /** The number of stages Hipparchus computes per step attempt (its Butcher array, dense-output stages included). */
    static int stages(EmbeddedRungeKuttaIntegrator i) {
        return i.getC().length + 1;
    }

    /**
     * Whether a stage of the array is evaluated at the step's end state (a row of A equal to b), so
     * that Hipparchus reuses it as the next step's first derivative instead of evaluating again.
     */
    static boolean fsal(EmbeddedRungeKuttaIntegrator i) {
        double[][] a = i.getA();
        double[] b = i.getB();
        for (double[] row : a) {
            boolean same = true;
            for (int k = 0; k < b.length; k++) {
                double ak = k < row.length ? row[k] : 0;
                if (ak != b[k]) {
                    same = false;
                    break;
                }
            }
            if (same) return true;
        }
        return false;
    }
}
