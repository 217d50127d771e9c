# Join every *.msgf file into one catalog: share/qvpn/qvpn.msgf and a C++
# source holding the same text. Run at build time with
#   -DOUT_MSGF=... -DOUT_CPP=... -DINPUTS=a.msgf;b.msgf -DSOURCE_DIR=...
string(REPLACE "|" ";" INPUTS "${INPUTS}")
set(text "# qvpn message catalog, joined from the *.msgf files of the source tree.\n")
foreach(f IN LISTS INPUTS)
  file(READ ${f} content)
  file(RELATIVE_PATH rel ${SOURCE_DIR} ${f})
  string(APPEND text "#file ${rel}\n${content}\n")
endforeach()
string(FIND "${text}" ")QVPNMSGF\"" bad)
if(NOT bad EQUAL -1)
  message(FATAL_ERROR "a .msgf file contains the raw-string terminator")
endif()
file(WRITE ${OUT_MSGF}.tmp "${text}")
file(WRITE ${OUT_CPP}.tmp "// Generated from the *.msgf files; do not edit.\nextern \"C\" const char* const qvpn_catalog_text;\nextern \"C\" const char* const qvpn_catalog_text = R\"QVPNMSGF(${text})QVPNMSGF\";\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT_MSGF}.tmp ${OUT_MSGF})
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different ${OUT_CPP}.tmp ${OUT_CPP})
file(REMOVE ${OUT_MSGF}.tmp ${OUT_CPP}.tmp)
