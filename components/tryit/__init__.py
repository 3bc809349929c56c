""" "Try it" widgets shared by the Train and Models pages: a drawing pad, an image upload, a ticket form and output views."""
