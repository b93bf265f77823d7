# Turns a file into C source: cmake -DIN=FILE -DOUT=FILE.c -DNAME=ident -P embed.cmake
# gives `const unsigned char NAME[]` (its bytes) and `const size_t NAME_len`.
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
math(EXPR n "${n} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}" "/* generated from ${IN} by cmake/embed.cmake */\n#include <stddef.h>\n"
	"const unsigned char ${NAME}[] = {\n${bytes}0x00 };\nconst size_t ${NAME}_len = ${n};\n")
