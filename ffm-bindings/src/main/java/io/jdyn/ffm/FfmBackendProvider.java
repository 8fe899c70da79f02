package io.jdyn.ffm;

import io.jdyn.spi.Backend;
import io.jdyn.spi.BackendProvider;
import java.io.IOException;
import java.nio.file.Path;

/** ServiceLoader entry point: loads libjdyn.so and binds it. */
public final class FfmBackendProvider implements BackendProvider {
    @Override
    public Backend create() {
        Path file;
        try {
            file = NativeLibraryLoader.locate("jdyn", "jdyn.library.path");
        } catch (IOException e) {
            throw new IllegalStateException("cannot extract libjdyn: " + e.getMessage(), e);
        }
        if (file == null) {
            throw new IllegalStateException("no libjdyn for " + NativeLibraryLoader.platform() + " on the class path: "
                    + "add io.jdyn:jdyn-native-core, or point -Djdyn.library.path at a libjdyn.so");
        }
        return new FfmBackend(new JdynLibrary(file), file);
    }
}
