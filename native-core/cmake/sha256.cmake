# Writes FILE.sha256 ("<hex>  <name>"), the hash the Java loader checks extracted copies against.
file(SHA256 "${FILE}" hash)
get_filename_component(name "${FILE}" NAME)
file(WRITE "${FILE}.sha256" "${hash}  ${name}\n")
